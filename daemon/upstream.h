/*
 * upstream: the messages between a broker (`stanced --broker`) and the
 * daemons behind it. A daemon connects a DEALER to the broker's back end
 * (a ROUTER), so on the daemon's side a message is the frames below and on
 * the broker's they follow the daemon's routing id. Every message starts
 * with UP_PROTOCOL and a command:
 *
 *   daemon -> broker
 *     READY     CAPACITY NAME    joined: CAPACITY requests at once (its workers)
 *     HEARTBEAT                  alive; sent every heartbeat_ms
 *     REPLY     ID BODY          the reply to request ID
 *     DRAIN                      stopping: send no more requests
 *     BYE                        gone: whatever it still had is requeued
 *   broker -> daemon
 *     REQUEST   ID ADMIN USER BODY   ADMIN is "yes" or "no", USER the key name
 *     HEARTBEAT
 *
 * ID is 8 opaque bytes chosen by the broker. Either side that hears
 * nothing from the other for liveness heartbeats gives it up: the broker
 * requeues the daemon's requests, the daemon reconnects and says READY.
 */
#ifndef STANCED_UPSTREAM_H
#define STANCED_UPSTREAM_H

#define UP_PROTOCOL "STANCED-UP1"
#define UP_READY "READY"
#define UP_HEARTBEAT "HEARTBEAT"
#define UP_REPLY "REPLY"
#define UP_DRAIN "DRAIN"
#define UP_BYE "BYE"
#define UP_REQUEST "REQUEST"
#define UP_ID_BYTES 8

#endif
