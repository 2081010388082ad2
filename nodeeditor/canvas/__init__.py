"""The node editor canvas: a QGraphicsScene that mirrors the engine's network and a
QGraphicsView to draw it with the mouse. See scene.py and view.py."""
