"""Planning: where the next towers and cables should go, and where only satellite will do.

Planning reads the analysis' verdicts (who is covered, by which operator, which
villages the USP programme favours) and applies no coverage rule of its own.

Modules
-------
plan
    :func:`plan`: candidate sites, fibre extensions and satellite villages.
candidates
    Candidate positions (shared towers, a grid, high ground) and whom each would cover.
select
    Choosing the sites: greedy or exact, within a count or a budget.
roads
    Fibre extension lengths along the road network.
"""

from covgap.planning.plan import CANDIDATE_COLUMNS, Plan, plan

__all__ = ["CANDIDATE_COLUMNS", "Plan", "has_site_prices", "plan"]
