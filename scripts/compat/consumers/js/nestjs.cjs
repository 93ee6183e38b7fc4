require('reflect-metadata');
const { main } = require('./harness.cjs');
const { NestFactory } = require('@nestjs/core');
const { Module, Controller, Get, Inject } = require('@nestjs/common');
const { TerminusModule } = require('@nestjs/terminus');
const { BroadcastModule, BroadcastService } = require('@tim-broadcast/nestjs');
const { BroadcastHealthIndicator } = require('@tim-broadcast/nestjs/health');
const { startEmulator } = require('@tim-broadcast/emulator');
const { text } = require('@tim-broadcast/core');
const scenario = require('./scenarios/nestjs.cjs');

main('nestjs', () => scenario({ NestFactory, Module, Controller, Get, Inject, TerminusModule, BroadcastModule, BroadcastService, BroadcastHealthIndicator, startEmulator, text }));
