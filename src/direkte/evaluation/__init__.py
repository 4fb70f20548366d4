"""Pure evaluation of the program (numpy, no database): the weekly panel, the difference
in differences with its center bootstrap (``did``), and the simulated network histories
with a known effect that it is checked against (``simulation``)."""
