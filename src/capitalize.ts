/** The text with its first letter in upper case, as a sentence of a check run or a Slack card begins. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
