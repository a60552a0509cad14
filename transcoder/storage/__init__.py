"""Where files live: uploads, renditions, HLS segments and previews.

The interface every kind of storage keeps (``base``), where each file of a video lives
(``layout``), a folder (``local``), an S3 bucket (``s3``), and a process's own working
folders (``scratch``).

May import: ``transcoder.errors`` and itself.
"""
