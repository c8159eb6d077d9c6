/** The two network sizes the model benches measure: the paper's (gpu preset) and the cpu preset. */
export interface Config {
  size: number;
  filters: number;
}

export const CONFIGS: Config[] = [
  { size: 256, filters: 64 },
  { size: 128, filters: 32 },
];
