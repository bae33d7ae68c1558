"""Problems: the underlying causes of incidents, worked in the console and the API,
their known-error articles, and the recurring errors that propose one. The
``Problem`` row lives in ``incidents`` (incidents link to it); every write to it is
a service here, and incidents are linked only through the incident services."""
