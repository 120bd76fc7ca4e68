// Method-name checking: close matches for a mistyped name.

/** The optimal-string-alignment distance (Levenshtein plus adjacent transpositions). */
export function editDistance(a, b) {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const d = Array.from({ length: rows }, () => new Array(columns).fill(0));
  for (let i = 0; i < rows; i++) d[i][0] = i;
  for (let j = 0; j < columns; j++) d[0][j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < columns; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[rows - 1][columns - 1];
}

/**
 * Up to `limit` names of `known` close to `name`, best first: a small edit distance on the whole name, or the
 * same last segment in another namespace, or a method of the namespace asked for.
 * @param {string} name
 * @param {Iterable<string>} known
 * @returns {string[]}
 */
export function closeMatches(name, known, limit = 3) {
  const lower = name.toLowerCase();
  const scored = [];
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    const threshold = Math.max(2, Math.floor(Math.max(name.length, candidate.length) / 4));
    if (distance <= threshold) scored.push([distance, candidate]);
  }
  scored.sort((x, y) => x[0] - y[0] || x[1].localeCompare(y[1]));
  const matches = scored.map(([, candidate]) => candidate);
  if (matches.length === 0) {
    // `merit.people()` or `merit.people.lsit.all()`: the methods under the longest known prefix.
    const segments = name.split('.');
    for (let n = segments.length; n > 0 && matches.length === 0; n--) {
      const prefix = segments.slice(0, n).join('.') + '.';
      for (const candidate of known) if (candidate.startsWith(prefix)) matches.push(candidate);
    }
    matches.sort();
  }
  return matches.slice(0, limit);
}
