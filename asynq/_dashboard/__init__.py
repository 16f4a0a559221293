"""What every dashboard shows and does, apart from how it shows it (no web framework here).

asynq's own web dashboard (:mod:`asynq.web`, Starlette and Jinja) and the Django admin's pages
(``asynq_django.admin_pages``) present the same data and offer the same actions. Both take them
from here, so a rule (which actions a state allows, how one damaged queue is kept from failing
a page, how "cancel all" finds the running tasks) is written once:

- :mod:`asynq._dashboard.data`: the reads and actions of the pages, over an inspector
  (:class:`~asynq._dashboard.data.AsyncDashboardData` and its generated blocking twin
  :class:`~asynq._dashboard.data.DashboardData`), and the tables they follow;
- :mod:`asynq._dashboard.format`: values prepared for display (payload text, JSON or hex dump,
  Go durations, relative times, sizes) and the JSON shapes of the dashboard's API.
"""
