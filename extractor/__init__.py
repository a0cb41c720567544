"""nianbao: turn scanned government information-disclosure annual reports into a dataset."""

__version__ = "0.1.0"
