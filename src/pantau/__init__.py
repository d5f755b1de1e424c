"""pantau: find provocative content in Indonesian social-media posts and route it to human reviewers."""

__version__ = "0.1.0"
