"""The one grammar of a page number line: the PDF layout drops it from the page margins, the readers of
texts that lost their layout drop it (and the lines repeated beside it) as page furniture."""

import re

# "(12)", "av 12", "of 12", "/ 12" after the page's own number
_OF_PAGES = r"(?:\s*(?:\(\s*\d+\s*\)|(?:av|of|/)\s*\d+))?"
# Any page number line: "3", "Sida 3 (12)", "Sid. 3 av 12", "page 3 of 12", "s. 3"
PAGE_NUMBER_LINE = re.compile(rf"^(?:(?:sida|sid\.?|page|s\.)\s*)?\d+{_OF_PAGES}$", re.IGNORECASE)
# One that names itself a page number: "Sida 3 (12)", "Sid 3 av 12" (a bare number may be a cell)
WORDED_PAGE_NUMBER = re.compile(rf"^Sida?\s+\d+{_OF_PAGES}$", re.IGNORECASE)
# A bare page number, alone or with the page count: "3", "3 (12)"
BARE_PAGE_NUMBER = re.compile(r"^\d{1,3}(?:\s*\(\s*\d{1,3}\s*\))?$")
