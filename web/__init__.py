"""The admin console: a Telegram Mini App where district and city admins browse, review and
export (server-rendered HTML, Starlette + Jinja2). It sits beside ``handlers/``: it calls the
same services and the same permission policy, and imports no Telegram library."""
