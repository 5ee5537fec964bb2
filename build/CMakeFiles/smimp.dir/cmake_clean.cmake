file(REMOVE_RECURSE
  "CMakeFiles/smimp.dir/src/lib/b64.c.o"
  "CMakeFiles/smimp.dir/src/lib/b64.c.o.d"
  "CMakeFiles/smimp.dir/src/lib/error.c.o"
  "CMakeFiles/smimp.dir/src/lib/error.c.o.d"
  "CMakeFiles/smimp.dir/src/lib/hash.c.o"
  "CMakeFiles/smimp.dir/src/lib/hash.c.o.d"
  "CMakeFiles/smimp.dir/src/lib/hex.c.o"
  "CMakeFiles/smimp.dir/src/lib/hex.c.o.d"
  "CMakeFiles/smimp.dir/src/lib/json.c.o"
  "CMakeFiles/smimp.dir/src/lib/json.c.o.d"
  "CMakeFiles/smimp.dir/src/lib/key.c.o"
  "CMakeFiles/smimp.dir/src/lib/key.c.o.d"
  "CMakeFiles/smimp.dir/src/lib/timestamp.c.o"
  "CMakeFiles/smimp.dir/src/lib/timestamp.c.o.d"
  "libsmimp.a"
  "libsmimp.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang C)
  include(CMakeFiles/smimp.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
