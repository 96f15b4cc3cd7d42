/*
 * greenroom.h - what crosses binaries: the emulator serves these, stagehand
 * (rehearse) and the tests call them. Constants only; no ownership here.
 */
#ifndef GREENROOM_H
#define GREENROOM_H

#define GREENROOM_DEFAULT_HOST "127.0.0.1"
#define GREENROOM_DEFAULT_PORT 4566 /* LocalStack's edge port */
#define GREENROOM_DEFAULT_ACCOUNT "000000000000"
#define GREENROOM_DEFAULT_ACCESS_KEY "test"
#define GREENROOM_DEFAULT_SECRET_KEY "test"

/* The control plane (unsigned, never journaled). */
#define GREENROOM_PATH_HEALTH "/_greenroom/health"
#define GREENROOM_PATH_RESET "/_greenroom/reset"
#define GREENROOM_PATH_CALLS "/_greenroom/calls" /* ?since=N&service=&operation=... */
#define GREENROOM_PATH_FAULTS "/_greenroom/faults"
#define GREENROOM_PATH_SNAPSHOTS "/_greenroom/snapshots" /* /{name}, /{name}/restore */
#define GREENROOM_PATH_EVENTS_TRIGGER "/_greenroom/events/rules/" /* {name}/trigger */
#define GREENROOM_PATH_RUNTIME "/_greenroom/runtime/" /* {sandbox}/2018-06-01/runtime/... */

#endif
