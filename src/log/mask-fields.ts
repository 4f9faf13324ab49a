/**
 * Masks every string in a log record, however deep: a secret may reach a
 * line as its message, an error's stack, a URL or a header Probot logs —
 * or as a key (a map keyed by token, a header's name), so keys are masked too.
 */
export function maskFields(value: unknown, mask: (text: string) => string): unknown {
  if (typeof value === 'string') return mask(value);
  if (Array.isArray(value)) return value.map((item) => maskFields(item, mask));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [mask(key), maskFields(item, mask)]));
  }
  return value;
}
