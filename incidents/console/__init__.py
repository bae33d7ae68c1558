"""The agent console: the queue (``queue``), the incident page and its actions
(``views``) and their forms (``forms``). Every write goes through
``incidents.services``; every read starts from ``incidents.selectors``."""
