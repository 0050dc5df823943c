"""The self-contained HTML report: KPIs, charts and tables, readable offline."""

from fabnet.report.html import render_plan_report

__all__ = ["render_plan_report"]
