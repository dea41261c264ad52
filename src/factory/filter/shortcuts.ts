/**
 * The once-per-document shortcuts of the document, paragraph, sentence and PII filters (exact:
 * they only skip work whose outcome is known). Tests switch them off to compare the outputs.
 */
export const filterShortcuts = { on: true };
