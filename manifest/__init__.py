"""The Teams app package: manifest template, icons, and the builder behind `make package`.

`python -m manifest build` fills the template from the environment (`MicrosoftAppId`,
`BOT_DOMAIN`, the privacy and terms URLs), validates it against Microsoft's v1.30 schema, checks
the icons and writes `dist/kanalvakten.zip`. The app's version lives here, so that changing it
is one reviewed line.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
"""The app version in the manifest; Teams needs a higher one for every update an admin uploads."""
