"""The pumping drill against real servers (``python3 dev.py pumping-drill``)."""
