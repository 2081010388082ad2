"""Deepwire's desktop application (PySide6).

It shows the engine's state and turns gestures into engine calls; it holds no
deep-learning logic. Importing this package does not import Qt: ``launcher`` decides
whether a command line needs the window at all.
"""
