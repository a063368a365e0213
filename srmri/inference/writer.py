"""Atomic, streamed NIfTI output files.

:class:`NiftiWriter` writes under a temporary name in the output's folder, through a memory map
whose written pages are dropped from memory batch by batch, then gzip-streams the file when the
name ends in ``.gz``, syncs it and renames it: memory stays bounded by a batch, not the output, and
a crash never leaves a half-written volume under the output's name.
"""

from __future__ import annotations

import gzip
import mmap
import os
import secrets
import shutil
from pathlib import Path
from types import TracebackType

import nibabel as nib
import numpy as np

COPY_CHUNK_BYTES = 16 * 2**20


class NiftiWriter:
    """Write one NIfTI file atomically; ``data`` is the writable voxel array (Fortran order).

    Use as a context manager; call :meth:`release` after writing a part of ``data`` to drop
    those pages from memory (the kernel keeps them for the file). On success the temporary file is
    synced, gzip-streamed if ``path`` ends in ``.gz``, and renamed to ``path``; on failure the
    temporary files are removed and ``path`` is left as it was.

    Args:
        path: the output file (``.nii`` or ``.nii.gz``); its folder must exist.
        header: the output header; its shape and data type size the file.
        compresslevel: gzip level for ``.nii.gz``.
    """

    def __init__(self, path: Path, header: nib.Nifti1Header, compresslevel: int) -> None:
        self.path = Path(path)
        self.header = header
        self.compresslevel = compresslevel
        token = secrets.token_hex(4)
        self.partial = self.path.with_name(f".{self.path.name}.{token}.part.nii")
        self.partial_gz = self.path.with_name(f".{self.path.name}.{token}.part.nii.gz")
        self.data: np.ndarray | None = None
        self._map: mmap.mmap | None = None

    def __enter__(self) -> NiftiWriter:
        dtype = self.header.get_data_dtype()
        shape = self.header.get_data_shape()
        try:
            with open(self.partial, "xb") as handle:
                self.header.write_to(handle)
                offset = self.header.get_data_offset()
                handle.truncate(offset + int(np.prod(shape)) * dtype.itemsize)
            with open(self.partial, "r+b") as handle:
                self._map = mmap.mmap(handle.fileno(), 0)
            self.data = np.ndarray(shape, dtype, buffer=self._map, offset=offset, order="F")
        except BaseException:
            self._remove_partials()
            raise
        return self

    def release(self) -> None:
        """Drop the pages written so far from this process's resident memory."""
        if self._map is not None and hasattr(mmap, "MADV_DONTNEED"):
            self._map.madvise(mmap.MADV_DONTNEED)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        written = self._map
        # Views of the map may outlive this call in a traceback; the map closes with the last one.
        self.data, self._map = None, None
        try:
            if exc_type is None:
                written.flush()
                self._finish()
        finally:
            self._remove_partials()

    def _finish(self) -> None:
        if self.path.name.endswith(".gz"):
            with open(self.partial, "rb") as source, open(self.partial_gz, "xb") as target:
                name = self.path.name.removesuffix(".gz")
                with gzip.GzipFile(name, "wb", self.compresslevel, target) as compressed:
                    shutil.copyfileobj(source, compressed, COPY_CHUNK_BYTES)
                target.flush()
                os.fsync(target.fileno())
            os.replace(self.partial_gz, self.path)
        else:
            with open(self.partial, "rb") as handle:
                os.fsync(handle.fileno())
            os.replace(self.partial, self.path)

    def _remove_partials(self) -> None:
        for path in (self.partial, self.partial_gz):
            path.unlink(missing_ok=True)
