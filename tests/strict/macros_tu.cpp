// tokio.hpp after headers that define short object-like macros: X11's (Xlib.h and X.h
// define Success, None, Bool, Status, True, False, Always, Above, Below, Expose...), which
// GUI programs include first. `make check-strict` compiles this with g++ and clang++. With
// the real headers where they are installed, else the X11 names most likely to meet an
// enumerator or a member.
#if __has_include(<X11/Xlib.h>) && __has_include(<X11/Xutil.h>)
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#else
#define Success 0
#define None 0L
#define Bool int
#define Status int
#define True 1
#define False 0
#define Always 2
#define Above 0
#define Below 1
#define Expose 12
#define KeyPress 2
#define FocusIn 9
#define Complex 0
#define Convex 2
#define Opposite 4
#define Unsorted 0
#endif

#include "tokio.hpp"

tokio::Task<int> add_one(int x) {
  co_await tokio::task::yield_now();
  co_return x + 1;
}
