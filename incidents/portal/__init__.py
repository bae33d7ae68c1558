"""The requester portal: report a problem, follow one's own tickets, reply, and
confirm the fix or reopen. Requesters see only their own incidents, and never
work notes (``incidents.selectors.incidents_visible_to`` is the rule)."""
