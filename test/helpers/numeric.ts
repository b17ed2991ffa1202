/** Largest |actual − expected| over the largest |expected|. */
export function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

export function cosine(u: ArrayLike<number>, v: ArrayLike<number>): number {
  let uv = 0;
  let uu = 0;
  let vv = 0;
  for (let i = 0; i < u.length; i++) {
    uv += u[i] * v[i];
    uu += u[i] * u[i];
    vv += v[i] * v[i];
  }
  return uv / Math.sqrt(uu * vv);
}
