# The one compiled part: mechanical glue between Unicorn's hooks and the
# Python kernel (see emu/_uchook.c).  It links against nothing; Unicorn's
# function pointers are handed to it at start-up.
from setuptools import Extension, setup

setup(ext_modules=[Extension("emu._uchook", ["emu/_uchook.c"], extra_compile_args=["-O2"])])
