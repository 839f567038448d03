# The floors of docs/ARCHITECTURE.md, enforced. Fails when
# - a file under engine/ includes anything from ui/ or app/, or a Qt header;
# - a file under ui/ includes anything from app/;
# - a file in one engine folder includes a header of an engine folder on its own floor or above
#   (each folder may include its own folder and the floors below it only).
# Run by CTest as include_direction; `cmake -DSOURCE_DIR=. -P cmake/CheckIncludes.cmake` by hand.

get_filename_component(SOURCE_DIR "${SOURCE_DIR}" ABSOLUTE)

# Engine folders, lowest floor first; folders joined by | share a floor and do not include each
# other.
set(engine_floors
    "base"
    "schema"
    "graph"
    "data"
    "project"
    "model"
    "nodes|dist"
    "train"
    "explain|export"
    "recipes")
set(floor 0)
foreach(entry ${engine_floors})
  string(REPLACE "|" ";" names "${entry}") # one floor may hold several folders
  foreach(name ${names})
    set(floor_of_${name} ${floor})
  endforeach()
  math(EXPR floor "${floor} + 1")
endforeach()

set(violations "")

# Layers: engine → nothing of ui/ or app/; ui → nothing of app/.
function(check_layer layer forbidden_dirs forbid_qt)
  file(GLOB_RECURSE files ${SOURCE_DIR}/${layer}/*.h ${SOURCE_DIR}/${layer}/*.cpp)
  foreach(file ${files})
    file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include")
    foreach(line ${lines})
      if(line MATCHES "#[ \t]*include[ \t]*\"([^\"]+)\"")
        set(header ${CMAKE_MATCH_1})
        get_filename_component(here ${file} DIRECTORY)
        if(EXISTS ${SOURCE_DIR}/${layer}/${header} OR EXISTS ${here}/${header})
          continue()
        endif()
        foreach(dir ${forbidden_dirs})
          if(EXISTS ${SOURCE_DIR}/${dir}/${header})
            file(RELATIVE_PATH rel ${SOURCE_DIR} ${file})
            list(APPEND violations "${rel}: includes \"${header}\" from ${dir}/")
          endif()
        endforeach()
      elseif(forbid_qt AND line MATCHES "#[ \t]*include[ \t]*<(Q[A-Za-z]+)")
        file(RELATIVE_PATH rel ${SOURCE_DIR} ${file})
        list(APPEND violations "${rel}: includes the Qt header <${CMAKE_MATCH_1}>")
      endif()
    endforeach()
  endforeach()
  set(violations ${violations} PARENT_SCOPE)
endfunction()
check_layer(engine "ui;app/gui;app/cli" TRUE)
check_layer(ui "app/gui;app/cli" FALSE)

# Floors inside the engine.
file(GLOB_RECURSE engine_files ${SOURCE_DIR}/engine/*.h ${SOURCE_DIR}/engine/*.cpp ${SOURCE_DIR}/engine/*.h.in)
foreach(file ${engine_files})
  file(RELATIVE_PATH rel ${SOURCE_DIR}/engine ${file})
  if(NOT rel MATCHES "^([^/]+)/")
    list(APPEND violations "engine/${rel}: lies outside every engine folder (give it a floor)")
    continue()
  endif()
  set(folder ${CMAKE_MATCH_1})
  if(NOT DEFINED floor_of_${folder})
    list(APPEND violations "engine/${folder}/: a folder without a floor (add it to cmake/CheckIncludes.cmake and docs/ARCHITECTURE.md)")
    continue()
  endif()
  set(own ${floor_of_${folder}})
  file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line ${lines})
    if(NOT line MATCHES "#[ \t]*include[ \t]*\"([^/\"]+)/[^\"]+\"")
      continue() # "Header.h": a file of the same folder
    endif()
    set(target ${CMAKE_MATCH_1})
    if(target STREQUAL folder OR NOT DEFINED floor_of_${target})
      continue()
    endif()
    if(NOT floor_of_${target} LESS own)
      string(STRIP "${line}" shown)
      list(APPEND violations "engine/${rel}: ${shown} runs up a floor (${folder}/ may include only folders below it)")
    endif()
  endforeach()
endforeach()

if(violations)
  list(JOIN violations "\n" text)
  message(FATAL_ERROR "Layering broken:\n${text}")
endif()
message(STATUS "engine/ includes nothing from ui/ or app/, ui/ nothing from app/, every engine folder only the floors below it")
