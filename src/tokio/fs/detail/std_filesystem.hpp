#pragma once
// std::filesystem's names for the fs headers of the user part, without <filesystem>.
//
// Why: <filesystem> is the heaviest standard header a user TU would parse for tokio.hpp
// (libstdc++'s path, directory iterators and their locale machinery): 0.74 against 0.64 s
// of g++ -O0 for bench/weight.py's eight-header TU, two thirds of what every other
// standard header of the user part adds together. The fs headers need only the enums
// (file_type, perms) complete and path's name: a result that holds a path
// (fs::canonicalize, fs::read_link, DirEntry::path and file_name) is usable in a TU that
// includes <filesystem>, as any standard type is in a TU that includes its header, and a
// TU that names std::filesystem::path includes <filesystem> anyway. Awaiting such a result
// without it stops at a static_assert that says so (FsAwait::await_resume).
//
// libstdc++ declares exactly these in <bits/fs_fwd.h> (an internal header, but the one its
// own <filesystem> starts with); other libraries get the whole header.

#include <version>

#if defined(__GLIBCXX__) && __has_include(<bits/fs_fwd.h>)
#include <bits/fs_fwd.h>
#else
#include <filesystem>
#endif
