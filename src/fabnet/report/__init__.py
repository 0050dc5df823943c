"""The self-contained HTML report: KPIs, charts and tables, readable offline."""

from fabnet.report.html import render_page, render_plan_report

__all__ = ["render_page", "render_plan_report"]
