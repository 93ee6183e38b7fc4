import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { BroadcastService } from '@tim-broadcast/nestjs';
import { AnnouncementPipe, toRequest, type Announcement } from './announcement';

@Controller('announcements')
export class AnnouncementsController {
  constructor(@Inject(BroadcastService) private readonly broadcast: BroadcastService) {}

  /** Queues the announcement and answers once Tencent accepted it (for every AVChatRoom of the app). */
  @Post()
  @HttpCode(200)
  async create(@Body(AnnouncementPipe) body: Announcement) {
    const { MsgSeq, Random, batchSize } = await this.broadcast.send(toRequest(body));
    return { MsgSeq, Random, batchSize };
  }
}
