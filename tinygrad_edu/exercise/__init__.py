"""The exercise kit: the library's ops with their backward passes left to write.

`tinygrad-edu exercise new DIR` writes a kit (kit.write_kit), one file per lesson
made from the library's own source (generate.py); `tinygrad-edu exercise check DIR`
grades it with `check_op` (grade.py). The library's ops are the reference solution.
"""

from .grading import OpGrade, assert_passes, grade
from .kit import kit_files, write_kit
from .lessons import LESSONS, Lesson

__all__ = ["LESSONS", "Lesson", "OpGrade", "assert_passes", "grade", "kit_files", "write_kit"]
