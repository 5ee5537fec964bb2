
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/src/lib/b64.c" "CMakeFiles/smimp.dir/src/lib/b64.c.o" "gcc" "CMakeFiles/smimp.dir/src/lib/b64.c.o.d"
  "/work/main/src/lib/error.c" "CMakeFiles/smimp.dir/src/lib/error.c.o" "gcc" "CMakeFiles/smimp.dir/src/lib/error.c.o.d"
  "/work/main/src/lib/hash.c" "CMakeFiles/smimp.dir/src/lib/hash.c.o" "gcc" "CMakeFiles/smimp.dir/src/lib/hash.c.o.d"
  "/work/main/src/lib/hex.c" "CMakeFiles/smimp.dir/src/lib/hex.c.o" "gcc" "CMakeFiles/smimp.dir/src/lib/hex.c.o.d"
  "/work/main/src/lib/json.c" "CMakeFiles/smimp.dir/src/lib/json.c.o" "gcc" "CMakeFiles/smimp.dir/src/lib/json.c.o.d"
  "/work/main/src/lib/key.c" "CMakeFiles/smimp.dir/src/lib/key.c.o" "gcc" "CMakeFiles/smimp.dir/src/lib/key.c.o.d"
  "/work/main/src/lib/timestamp.c" "CMakeFiles/smimp.dir/src/lib/timestamp.c.o" "gcc" "CMakeFiles/smimp.dir/src/lib/timestamp.c.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
