"""``tifli demo``: a whole case, from report to take-down, on this machine."""
