/** An exact frame rate such as 30000/1001 (NTSC), as ffprobe reports it. */
export interface Rational {
  num: number;
  den: number;
}

/** Parses "30000/1001" or "25"; undefined for "0/0", "N/A" or garbage. */
export function parseRational(text: string | undefined): Rational | undefined {
  if (!text) return undefined;
  const [numText, denText = '1'] = text.split('/');
  const num = Number(numText);
  const den = Number(denText);
  if (!Number.isInteger(num) || !Number.isInteger(den) || num <= 0 || den <= 0) return undefined;
  const divisor = gcd(num, den);
  return { num: num / divisor, den: den / divisor };
}

/** A frame rate given as a number (25, 29.97) or a Rational; numbers become n/1000 fractions. */
export function toRational(rate: number | Rational): Rational {
  if (typeof rate !== 'number') {
    if (!(rate.num > 0 && rate.den > 0 && Number.isInteger(rate.num) && Number.isInteger(rate.den))) throw new RangeError(`bad frame rate ${rate.num}/${rate.den}`);
    return rate;
  }
  if (!(rate > 0 && Number.isFinite(rate))) throw new RangeError(`frame rate must be positive, got ${rate}`);
  return Number.isInteger(rate) ? { num: rate, den: 1 } : (parseRational(`${Math.round(rate * 1000)}/1000`) ?? { num: Math.round(rate * 1000), den: 1000 });
}

/** ffmpeg's syntax: "30000/1001". */
export function formatRational(rate: Rational): string {
  return `${rate.num}/${rate.den}`;
}

export function rationalToNumber(rate: Rational): number {
  return rate.num / rate.den;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
