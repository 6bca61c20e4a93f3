"""One module per platform, each a ``Source`` (see ``base``), all listed in ``registry``."""
