/* control.h — the control messages between the nimbus and its workers, carried as
 * framework messages (so they follow the framework through a scheduler failover), in
 * JSON:
 *   nimbus -> worker  {"type":"assign","epoch":E,"nworkers":N,"workers":["ip:port"|"",...]}
 *   worker -> nimbus  {"type":"heartbeat","task_id":T,"worker":I,"epoch":E,
 *                      "address":"ip:port","pid":P,"tasks":[{"task":K,"component":C,...}]}
 *   worker task data  {"topology":NAME,"worker":I,"conf":{K:V,...}} */
#ifndef STM_CONTROL_H
#define STM_CONTROL_H

#define STM_HEARTBEAT_MS 500

#endif
