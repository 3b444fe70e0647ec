"""Local stand-ins of the SMS providers: real HTTP servers on 127.0.0.1."""
