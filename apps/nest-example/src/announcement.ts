import { BadRequestException, type PipeTransform } from '@nestjs/common';
import { broadcastRequestSchema, MAX_MESSAGE_BYTES, messageBytes } from '@tim-broadcast/core';
import { custom, formatPath, text, type BroadcastRequestInput } from '@tim-broadcast/nestjs';
import { z } from 'zod';

/** Body of `POST /announcements`. */
export const announcementSchema = z
  .strictObject({
    text: z.string().min(1).max(2000),
    /** Sender account shown to receivers (core's From_Account rule); defaults to the admin account. */
    from: broadcastRequestSchema.shape.From_Account,
    /** Structured payload for clients, sent as a TIMCustomElem. */
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((body, ctx) => {
    const bytes = messageBytes(toRequest(body).MsgBody);
    if (bytes > MAX_MESSAGE_BYTES) {
      ctx.addIssue({ code: 'custom', path: ['data'], message: `the message is ${bytes} bytes; the limit is ${MAX_MESSAGE_BYTES}` });
    }
  });

export type Announcement = z.infer<typeof announcementSchema>;

export function toRequest(body: Announcement): BroadcastRequestInput {
  return {
    MsgBody: body.data ? [text(body.text), custom({ Data: body.data })] : [text(body.text)],
    ...(body.from ? { From_Account: body.from } : {}),
  };
}

/** 400 `{ message, issues: [{ path, message }] }` naming each bad field. */
export class AnnouncementPipe implements PipeTransform<unknown, Announcement> {
  transform(value: unknown): Announcement {
    const result = announcementSchema.safeParse(value);
    if (result.success) return result.data;
    const issues = result.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    throw new BadRequestException({ message: `invalid announcement: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues });
  }
}
