"""Discover the report files and extract their text lines (PDFs in worker processes, cached by content)."""
