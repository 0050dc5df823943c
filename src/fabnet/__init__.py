"""fabnet: plan and keep running a multi-site drone-manufacturing network."""

__version__ = "0.1.0"
