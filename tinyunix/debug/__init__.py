"""`tinyunix debug`: the debugger view (app.py) over a session (session.py)."""
