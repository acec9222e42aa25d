// Event types the gateway ingests. Each has a gate route, a scope and a pipeline.
export const EVENT_TYPES = ['vehicle-service-chat'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const VEHICLE_SERVICE_CHAT: EventType = 'vehicle-service-chat';
export const VEHICLE_SERVICE_CHAT_SCOPE = 'spd.events.vehicleservicechat.write' as const;
