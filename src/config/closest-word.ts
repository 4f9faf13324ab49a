/**
 * The known word a typo most likely meant (`hots` → `host`), for "did you
 * mean" hints, or one it abbreviates (`prod` → `production`); undefined
 * when nothing is close.
 */
export function closestWord(typo: string, words: readonly string[]): string | undefined {
  const lower = typo.toLowerCase();
  if (lower.length >= 3) {
    const longer = words.filter((word) => word.toLowerCase().startsWith(lower) && word.length > typo.length);
    if (longer.length === 1) return longer[0];
  }
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(typo.length / 3)) + 1;
  for (const word of words) {
    const distance = editDistance(typo.toLowerCase(), word.toLowerCase());
    if (distance < bestDistance) {
      best = word;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}
