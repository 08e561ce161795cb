"""``tao-arena report RESULTS_DIR``: a readable report of one experiment's results.

``findings`` computes (payoffs, deviation gains, the empirical game, phases, coalitions),
``write`` writes ``report.md``, ``report.json`` and the figures, ``format`` holds the
number formatting. What the report contains and how to read it: ``docs/report.md``.
"""

from analysis.report.findings import Analysis, DeviationResult, GameResult, PhaseResult
from analysis.report.format import axis_title, cell_labels, fmt, fmt_est, path_title
from analysis.report.write import report, report_one, write_report

__all__ = [
    "Analysis",
    "DeviationResult",
    "GameResult",
    "PhaseResult",
    "axis_title",
    "cell_labels",
    "fmt",
    "fmt_est",
    "path_title",
    "report",
    "report_one",
    "write_report",
]
