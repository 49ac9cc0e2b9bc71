"""Fills a stack's own copy of the pinned Helm charts (components/chart_mirror.py) and logs
helm in to it for ``pulumi up``; README "Charts"."""
