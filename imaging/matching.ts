/**
 * Minimum-cost perfect matching on an n x n cost matrix (Hungarian algorithm, O(n^3)).
 * cost[row * n + col]; returns colOfRow where row r is matched to column colOfRow[r].
 */
export function minCostMatching(cost: Float64Array, n: number): Int32Array {
  // Potentials formulation with 1-based rows/columns; column 0 is a virtual start.
  const u = new Float64Array(n + 1);
  const v = new Float64Array(n + 1);
  const rowOfCol = new Int32Array(n + 1);
  const way = new Int32Array(n + 1);
  const minReduced = new Float64Array(n + 1);
  const used = new Uint8Array(n + 1);

  for (let row = 1; row <= n; row++) {
    rowOfCol[0] = row;
    let col0 = 0;
    minReduced.fill(Infinity);
    used.fill(0);
    do {
      used[col0] = 1;
      const row0 = rowOfCol[col0];
      let delta = Infinity;
      let col1 = 0;
      for (let col = 1; col <= n; col++) {
        if (used[col]) continue;
        const reduced = cost[(row0 - 1) * n + (col - 1)] - u[row0] - v[col];
        if (reduced < minReduced[col]) {
          minReduced[col] = reduced;
          way[col] = col0;
        }
        if (minReduced[col] < delta) {
          delta = minReduced[col];
          col1 = col;
        }
      }
      for (let col = 0; col <= n; col++) {
        if (used[col]) {
          u[rowOfCol[col]] += delta;
          v[col] -= delta;
        } else {
          minReduced[col] -= delta;
        }
      }
      col0 = col1;
    } while (rowOfCol[col0] !== 0);
    do {
      const col1 = way[col0];
      rowOfCol[col0] = rowOfCol[col1];
      col0 = col1;
    } while (col0 !== 0);
  }

  const colOfRow = new Int32Array(n);
  for (let col = 1; col <= n; col++) colOfRow[rowOfCol[col] - 1] = col - 1;
  return colOfRow;
}
