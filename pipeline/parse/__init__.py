"""Text lines to indicator rows: table vocabulary, TAB-laid tables, flattened text, goals, report metadata."""
