"""The bundled Musterstadt demo: a local stand-in for the platforms, and the demo run."""
