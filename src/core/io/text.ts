/** The first line of a (possibly multi-line) message. */
export const firstLine = (s: string): string => s.split('\n', 1)[0] ?? '';
