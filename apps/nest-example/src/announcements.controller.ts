import { Body, Controller, Get, Inject, NotFoundException, Param, Post, Res } from '@nestjs/common';
import { BroadcastService } from '@tim-broadcast/nestjs';
import { OutboxNotFoundError } from '@tim-broadcast/outbox';
import { AnnouncementPipe, toRequest, type Announcement } from './announcement';

/** What `@Res({ passthrough: true })` gives on the Express platform; only these two are used. */
interface Reply {
  status(code: number): unknown;
  setHeader(name: string, value: string): void;
}

@Controller('announcements')
export class AnnouncementsController {
  constructor(@Inject(BroadcastService) private readonly broadcast: BroadcastService) {}

  /**
   * Without an outbox: queues the announcement and answers 200 once Tencent accepted it (for every AVChatRoom).
   * In outbox mode (REDIS_URL): answers 202 `{ id }` with `Location` once Redis holds it; a deliverer sends it.
   */
  @Post()
  async create(@Body(AnnouncementPipe) body: Announcement, @Res({ passthrough: true }) res: Reply) {
    if (this.broadcast.outbox) {
      const { id } = await this.broadcast.enqueue(toRequest(body));
      res.status(202);
      res.setHeader('location', `/announcements/${encodeURIComponent(id)}`);
      return { id };
    }
    const { MsgSeq, Random, batchSize } = await this.broadcast.send(toRequest(body));
    res.status(200);
    return { MsgSeq, Random, batchSize };
  }

  /** Outbox mode: the announcement's status (`state`: queued, sending, delivered, failed, expired, ...); 404 when unknown. */
  @Get(':id')
  async status(@Param('id') id: string) {
    if (!this.broadcast.outbox) throw new NotFoundException('announcement statuses are kept in outbox mode only (set REDIS_URL)');
    const status = await this.broadcast.status(id);
    if (!status) throw new OutboxNotFoundError(id);
    return status;
  }
}
