"""PDF geometry with pdfminer.six: glyphs, lines, ruled and borderless tables, pages laid out as text lines."""
