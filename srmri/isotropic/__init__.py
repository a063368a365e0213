"""Through-plane super resolution of thick-slice scans, trained on the scan itself.

A thick-slice scan's in-plane axes are high resolution: in-plane patches degraded along one axis by
the scan's own slice profile (:class:`srmri.degradation.SliceProfile`) teach a one-axis network
(:class:`srmri.models.one_axis.OneAxisSR`) to undo it, which is then applied along the slice axis
(the self-supervised approach of SMORE and ECLARE). ``isotropic.py`` is the command;
:func:`isotropic_file`, :func:`isotropic_files` and :func:`isotropic_volume` the Python functions.
"""

from srmri.isotropic.grid import Acquisition, find_acquisition
from srmri.isotropic.options import Budget, IsotropicOptions
from srmri.isotropic.run import Report, isotropic_file, isotropic_files, isotropic_volume

__all__ = [
    "Acquisition",
    "Budget",
    "IsotropicOptions",
    "Report",
    "find_acquisition",
    "isotropic_file",
    "isotropic_files",
    "isotropic_volume",
]
