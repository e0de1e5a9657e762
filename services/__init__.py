"""The application layer: one function per thing a person does (approve, return and resubmit a
report: ``services.review``; start, answer, amend, submit and withdraw one, and add or clear
its evidence: ``services.report``; note a plan, cancel it, report it: ``services.plan``; start
an export: ``services.export``; nudge an association: ``services.chase``; invite, revoke an
invite, join, remove a member: ``services.members``; create an association, fill its fields,
set a district's figures: ``services.organisations``).

Every front — the chat flows (``handlers/``), the console (``web/``) and the command line
(``bot/``) — calls these to change data, and keeps only its presentation: buttons, pages,
messages. A use case owns the policy check (``core.policy``), the locks, and the rows its action
writes (the record, the audit row and the outbox rows of the events it causes); a refusal is a
catalog key (``core/locales``) that the front renders in its own way.

A use case works in the session its front opened for the request or the update, and does not
commit: the front commits once, so an update's id (applied once) and its effects are one
transaction. Anything that must see the committed rows (a background run) starts after that.

Layer: above ``exports`` and ``scheduler``, below the fronts; no ``telegram``, no HTTP.
"""
